// Contract: the account-discovery calls of `layers audit`: Organizations ListAccounts (management
// account only, paged) and Account ListRegions (default and opt-in regions), through the real SDKs.
import {AccountClient, ListRegionsCommand, paginateListRegions} from '@aws-sdk/client-account'
import {ListAccountsCommand, OrganizationsClient, paginateListAccounts} from '@aws-sdk/client-organizations'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {failure} from './helpers.js'

const MGMT = '100000000000'
const MEMBERS = Array.from({length: 24}, (_, i) => String(200000000000 + i))
let server: AwsServer

beforeAll(async () => {
  const accounts: Record<string, string> = {AKIDMGMT: MGMT, AKIDMEMBER: MEMBERS[0]!, AKIDLONER: '999999999999'}
  const organizations: Record<string, string> = {[MGMT]: 'o-testorg0001'}
  for (const id of MEMBERS) organizations[id] = 'o-testorg0001'
  server = await startAwsServer({accounts, organizations, accountNames: {[MGMT]: 'management'}, optInRegions: {[MGMT]: ['af-south-1']}})
})
afterAll(() => server.close())

const config = (accountId: string) => ({region: 'us-east-1', endpoint: server.endpoint, credentials: server.credentials(accountId), maxAttempts: 1})

describe('Organizations ListAccounts', () => {
  it('lists every member, 20 a page, for the management account', async () => {
    const client = new OrganizationsClient(config(MGMT))
    const first = await client.send(new ListAccountsCommand({}))
    expect(first.Accounts).toHaveLength(20)
    expect(first.Accounts![0]).toMatchObject({Id: MGMT, Name: 'management', State: 'ACTIVE', Arn: `arn:aws:organizations::${MGMT}:account/o-testorg0001/${MGMT}`})
    expect(first.NextToken).toBeTruthy()
    const ids: string[] = []
    for await (const page of paginateListAccounts({client}, {})) ids.push(...page.Accounts!.map((account) => account.Id!))
    expect(ids).toEqual([MGMT, ...MEMBERS].sort())
    expect(server.calls.at(-1)).toMatchObject({service: 'organizations', operation: 'ListAccounts', accountId: MGMT, status: 200})
  })

  it('refuses members and accounts outside an organization', async () => {
    const member = await failure(new OrganizationsClient(config(MEMBERS[0]!)).send(new ListAccountsCommand({})))
    expect(member.name).toBe('AccessDeniedException')
    const loner = await failure(new OrganizationsClient(config('999999999999')).send(new ListAccountsCommand({})))
    expect(loner.name).toBe('AWSOrganizationsNotInUseException')
  })
})

describe('Account ListRegions', () => {
  it('reports default regions ENABLED_BY_DEFAULT and the account opt-in regions ENABLED, filtered and paged', async () => {
    const client = new AccountClient(config(MGMT))
    const regions: string[] = []
    for await (const page of paginateListRegions({client, pageSize: 5}, {RegionOptStatusContains: ['ENABLED', 'ENABLED_BY_DEFAULT']})) regions.push(...page.Regions!.map((region) => region.RegionName!))
    expect(regions).toContain('af-south-1')
    expect(regions).toContain('eu-west-1')
    expect(regions).not.toContain('me-south-1')
    expect(regions).toHaveLength(18)
    const other = await new AccountClient(config(MEMBERS[0]!)).send(new ListRegionsCommand({RegionOptStatusContains: ['ENABLED'], MaxResults: 50}))
    expect(other.Regions).toEqual([])
  })

  it('an explicit deny fault refuses a target account and region', async () => {
    server.setFaults({deny: [`${MEMBERS[0]}/us-east-1`]})
    try {
      const denied = await failure(new AccountClient(config(MEMBERS[0]!)).send(new ListRegionsCommand({})))
      expect(denied.name).toBe('AccessDeniedException')
      expect(denied.$metadata.httpStatusCode).toBe(403)
      expect((await new AccountClient(config(MGMT)).send(new ListRegionsCommand({}))).Regions?.length).toBeGreaterThan(0)
    } finally {
      server.setFaults(undefined)
    }
  })
})
