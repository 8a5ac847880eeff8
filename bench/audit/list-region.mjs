#!/usr/bin/env node
/* global process */
// One `aws lambda list-functions --region R` as a shell script over the AWS CLI runs it: a fresh
// process that pages through ListFunctions (50 a page) for one account and region and prints the count.
// Arguments: ENDPOINT REGION ACCESS_KEY_ID SECRET_ACCESS_KEY.
import {LambdaClient, ListFunctionsCommand} from '@aws-sdk/client-lambda'

const [endpoint, region, accessKeyId, secretAccessKey] = process.argv.slice(2)
const lambda = new LambdaClient({region, endpoint, credentials: {accessKeyId, secretAccessKey}})
let count = 0
let marker
do {
  const page = await lambda.send(new ListFunctionsCommand({MaxItems: 50, ...(marker ? {Marker: marker} : {})}))
  count += page.Functions?.length ?? 0
  marker = page.NextMarker
} while (marker)
process.stdout.write(`${count}\n`)
