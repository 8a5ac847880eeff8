#!/usr/bin/env node
/* global process */
// One `aws lambda list-functions --region R` as a shell script over the AWS CLI runs it: a fresh
// process that pages through ListFunctions for one account and region and prints the count.
// Arguments: ENDPOINT REGION ACCESS_KEY_ID SECRET_ACCESS_KEY.
import {LambdaClient} from '@aws-sdk/client-lambda'
import {countFunctions} from './count-functions.mjs'

const [endpoint, region, accessKeyId, secretAccessKey] = process.argv.slice(2)
process.stdout.write(`${await countFunctions(new LambdaClient({region, endpoint, credentials: {accessKeyId, secretAccessKey}}))}\n`)
