// Owns the ECR calls of `layers image --push`: the registry and its Basic credentials from
// GetAuthorizationToken (the token is base64 `AWS:<password>`, valid 12 hours, never written anywhere),
// and the repository pushed to (DescribeRepositories; created with --create-repository, else refused
// naming it, as ECR refuses a push to a repository that does not exist; one another run created
// meanwhile is taken as it is).
import type {ECRClient} from '@aws-sdk/client-ecr'
import {OperationalError, UserInputError} from '../errors/index.js'
import type {RegistryCredentials} from './registry.js'

export interface EcrRegistry {
  /** The registry host (ACCOUNT.dkr.ecr.REGION.amazonaws.com on AWS). */
  host: string
  scheme: 'http' | 'https'
  credentials: RegistryCredentials
}

export interface EcrWhere {
  account: string
  accountId: string
  region: string
}

export async function ecrRegistry(client: Pick<ECRClient, 'send'>, where: EcrWhere): Promise<EcrRegistry> {
  const {GetAuthorizationTokenCommand} = await import('@aws-sdk/client-ecr')
  const answer = await client.send(new GetAuthorizationTokenCommand({}))
  const data = answer.authorizationData?.[0]
  const decoded = data?.authorizationToken ? Buffer.from(data.authorizationToken, 'base64').toString('utf8') : ''
  const colon = decoded.indexOf(':')
  if (!data?.proxyEndpoint || colon <= 0) {
    throw new OperationalError('ERR_LAYERS_ECR_TOKEN', `ECR GetAuthorizationToken in account ${where.account} (${where.accountId}), ${where.region} answered no usable token.`, {hint: 'Run again; if it persists, check the endpoint (AWS_ENDPOINT_URL) and ecr:GetAuthorizationToken permission.', details: {...where}})
  }
  const endpoint = new URL(data.proxyEndpoint)
  return {host: endpoint.host, scheme: endpoint.protocol === 'http:' ? 'http' : 'https', credentials: {username: decoded.slice(0, colon), password: decoded.slice(colon + 1)}}
}

/** Makes sure the repository exists (creating it when `create`); throws UserInputError naming it otherwise. */
export async function ensureRepository(client: Pick<ECRClient, 'send'>, repository: string, create: boolean, where: EcrWhere): Promise<'exists' | 'created'> {
  const {CreateRepositoryCommand, DescribeRepositoriesCommand} = await import('@aws-sdk/client-ecr')
  try {
    await client.send(new DescribeRepositoriesCommand({repositoryNames: [repository]}))
    return 'exists'
  } catch (error) {
    if ((error as {name?: string}).name !== 'RepositoryNotFoundException') throw error
  }
  if (!create) {
    throw new UserInputError('ERR_LAYERS_ECR_REPOSITORY_MISSING', `ECR repository ${repository} does not exist in account ${where.account} (${where.accountId}), ${where.region}.`, {
      hint: `Create it (aws ecr create-repository --repository-name ${repository} --region ${where.region}), or pass --create-repository.`,
      details: {repository, ...where},
    })
  }
  try {
    await client.send(new CreateRepositoryCommand({repositoryName: repository}))
  } catch (error) {
    // Another run (a second machine pushing the same image) created it since it was looked up: it exists.
    if ((error as {name?: string}).name === 'RepositoryAlreadyExistsException') return 'exists'
    throw error
  }
  return 'created'
}
