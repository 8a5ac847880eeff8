// What `aws lambda list-functions` does for one account and region: every ListFunctions page (50 a
// page), one after another; returns how many functions there are. Shared by the sequential scan in
// run.mjs and the one-process-per-region script list-region.mjs.
import {ListFunctionsCommand} from '@aws-sdk/client-lambda'

export async function countFunctions(lambda) {
  let count = 0
  let marker
  do {
    const page = await lambda.send(new ListFunctionsCommand({MaxItems: 50, ...(marker ? {Marker: marker} : {})}))
    count += page.Functions?.length ?? 0
    marker = page.NextMarker
  } while (marker)
  return count
}
