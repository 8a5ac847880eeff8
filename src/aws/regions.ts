// Owns the AWS Account call `layers audit --all-regions` makes: the regions enabled for an account
// (ListRegions with status ENABLED or ENABLED_BY_DEFAULT, all pages), with that account's credentials.
import type {AccountClient} from '@aws-sdk/client-account'

export async function listEnabledRegions(client: Pick<AccountClient, 'send'>): Promise<string[]> {
  const {ListRegionsCommand} = await import('@aws-sdk/client-account')
  const regions: string[] = []
  let token: string | undefined
  do {
    const reply = await client.send(new ListRegionsCommand({RegionOptStatusContains: ['ENABLED', 'ENABLED_BY_DEFAULT'], MaxResults: 50, ...(token ? {NextToken: token} : {})}))
    for (const region of reply.Regions ?? []) if (region.RegionName) regions.push(region.RegionName)
    token = reply.NextToken
  } while (token)
  return regions.sort()
}
