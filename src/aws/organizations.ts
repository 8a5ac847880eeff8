// Owns the AWS Organizations call `layers audit --org` makes: every ACTIVE member account of the
// caller's organization (all pages of ListAccounts). The client is made with the same credentials,
// endpoint and retry settings as every other client in src/aws.
import type {OrganizationsClient} from '@aws-sdk/client-organizations'

export interface OrganizationsApi {
  listActiveAccounts(): Promise<Array<{id: string; name: string}>>
}

export function organizationsApi(client: Pick<OrganizationsClient, 'send'>): OrganizationsApi {
  return {
    async listActiveAccounts() {
      const {ListAccountsCommand} = await import('@aws-sdk/client-organizations')
      const accounts: Array<{id: string; name: string}> = []
      let token: string | undefined
      do {
        const reply = await client.send(new ListAccountsCommand(token ? {NextToken: token} : {}))
        for (const account of reply.Accounts ?? []) {
          // `State` replaces the deprecated `Status`; either says ACTIVE for a usable account.
          const state = account.State ?? account.Status
          if (account.Id && state === 'ACTIVE') accounts.push({id: account.Id, name: account.Name ?? account.Id})
        }
        token = reply.NextToken
      } while (token)
      return accounts.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    },
  }
}
