// The lockfile-lint rules of src/lock/check.ts as plain functions, for the cases the CLI corpus does
// not spell out: npm's replace-registry-host (a mirror fetches registry.npmjs.org tarballs itself),
// scoped registries, old sha1 integrities, and registries read from .npmrc without expanding
// credentials a read-only command does not need.
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {integrityProblem, packagePathProblem, tarballUrlProblem} from '../../src/lock/check.js'
import {loadRegistryPolicy} from '../../src/npm/config.js'

const NPMJS = 'https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz'

describe('tarball URLs', () => {
  it('follows replace-registry-host: npmjs tarballs are fetched from the configured registry unless it is never', () => {
    const mirror = {registries: ['https://mirror.example/'], replaceRegistryHost: 'npmjs'}
    expect(tarballUrlProblem(NPMJS, mirror)).toBeUndefined()
    expect(tarballUrlProblem(NPMJS, {...mirror, replaceRegistryHost: 'never'})).toMatch(/on registry\.npmjs\.org, which is not a configured registry \(https:\/\/mirror\.example\)/)
    expect(tarballUrlProblem('https://other.example/x.tgz', mirror)).toMatch(/on other\.example/)
  })

  it('allows every configured registry, http only where it was configured as http', () => {
    const policy = {registries: ['https://registry.npmjs.org/', 'http://127.0.0.1:4873/', 'https://npm.corp.example/'], replaceRegistryHost: 'npmjs'}
    expect(tarballUrlProblem('http://127.0.0.1:4873/@corp/x/-/x-1.0.0.tgz', policy)).toBeUndefined()
    expect(tarballUrlProblem('https://npm.corp.example/x/-/x-1.0.0.tgz', policy)).toBeUndefined()
    expect(tarballUrlProblem('http://npm.corp.example/x/-/x-1.0.0.tgz', policy)).toMatch(/over http, but that registry is configured with https/)
    expect(tarballUrlProblem('http://127.0.0.1:4874/x.tgz', policy)).toMatch(/on 127\.0\.0\.1:4874/)
    expect(tarballUrlProblem('ftp://127.0.0.1:4873/x.tgz', policy)).toMatch(/ftp: sources are refused/)
    expect(tarballUrlProblem('../x.tgz', policy)).toMatch(/is not a URL/)
  })
})

describe('integrity and package paths', () => {
  it('takes one sha512, or sha1 for old packages, and nothing else', () => {
    expect(integrityProblem(`sha512-${Buffer.alloc(64, 1).toString('base64')}`)).toBeUndefined()
    expect(integrityProblem(`sha1-${Buffer.alloc(20, 1).toString('base64')}`)).toBeUndefined()
    expect(integrityProblem(`sha512-${Buffer.alloc(64, 1).toString('base64')} sha1-${Buffer.alloc(20, 1).toString('base64')}`)).toMatch(/not a sha512/)
    expect(integrityProblem('sha512-short')).toMatch(/not a sha512/)
    expect(integrityProblem('')).toMatch(/has no integrity/)
  })

  it('takes node_modules/<name> segments with valid names, scoped or not', () => {
    expect(packagePathProblem('node_modules/a/node_modules/@s/b')).toBeUndefined()
    expect(packagePathProblem('node_modules/JSONStream')).toBeUndefined()
    for (const bad of ['node_modules/@s', 'node_modules/a/../b', 'node_modules/./a', 'node_modules//a', 'node_modules/a/lib', 'a', '', 'node_modules/a/node_modules']) {
      expect(packagePathProblem(bad), bad).toBeDefined()
    }
  })
})

describe('registries from the npm configuration', () => {
  let dir: string | undefined
  afterEach(async () => {
    if (dir) await rm(dir, {recursive: true, force: true})
  })

  it('reads registry and @scope:registry without expanding an unset auth token', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'layers-check-'))
    await writeFile(path.join(dir, '.npmrc'), 'registry=https://mirror.example\n@corp:registry=http://127.0.0.1:4873\n//127.0.0.1:4873/:_authToken=${UNSET_TOKEN_FOR_TEST}\nreplace-registry-host=never\n')
    const policy = loadRegistryPolicy(dir, {env: {}, home: path.join(dir, 'home'), globalPrefix: path.join(dir, 'none')})
    expect(policy).toEqual({registries: ['https://mirror.example/', 'http://127.0.0.1:4873/'], replaceRegistryHost: 'never'})
  })
})
