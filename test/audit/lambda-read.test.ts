import {describe, expect, it} from 'vitest'
import {lambdaReadApi} from '../../src/audit/lambda-read.js'
import type {LambdaRestGet} from '../../src/aws/lambda-rest.js'

const ARN = 'arn:aws:lambda:eu-west-1:111111111111'
const deps = {Arn: `${ARN}:layer:deps:3`, CodeSize: 10}
const ext = {Arn: `${ARN}:layer:ext:1`, CodeSize: 20}

/** A GET answering ListFunctions with `functions` and GetFunctionConfiguration with `version`. */
function getOf(functions: object[], version: object): LambdaRestGet {
  return (async (operation: string) => (operation === 'ListFunctions' ? {Functions: functions} : version)) as LambdaRestGet
}

describe('lambdaReadApi: layer lists', () => {
  it("gives the functions and versions of a target one frozen list per distinct Layers, each function's own otherwise", async () => {
    const api = lambdaReadApi(
      getOf(
        [
          {FunctionName: 'a', Layers: [deps, ext]},
          {FunctionName: 'b', Layers: [{...deps}, {...ext}]},
          {FunctionName: 'c', Layers: [ext, deps]},
          {FunctionName: 'd'},
          {FunctionName: 'e', Layers: []},
        ],
        {FunctionName: 'a', Version: '2', Layers: [deps, ext]},
      ),
    )
    const [a, b, c, d, e] = (await api.listFunctions(undefined)).functions
    expect(a!.layers).toEqual([{arn: deps.Arn, codeSize: 10}, {arn: ext.Arn, codeSize: 20}])
    expect(b!.layers).toBe(a!.layers)
    expect(c!.layers).not.toBe(a!.layers)
    expect(c!.layers.map((layer) => layer.arn)).toEqual([ext.Arn, deps.Arn])
    expect(d!.layers).toEqual([])
    expect(e!.layers).toBe(d!.layers)
    expect((await api.readFunctionVersion('a', '2')).layers).toBe(a!.layers)
    // Shared: nothing may change one function's list through it.
    expect(Object.isFrozen(a!.layers) && Object.isFrozen(a!.layers[0])).toBe(true)
    // Another target's read API has lists of its own.
    const other = lambdaReadApi(getOf([{FunctionName: 'a', Layers: [deps, ext]}], {}))
    expect((await other.listFunctions(undefined)).functions[0]!.layers).not.toBe(a!.layers)
  })
})
