// A Python distribution's licence from its core metadata (src/python/license.ts): License-Expression
// first, else an SPDX License field (not free text or a whole licence text), else the licence
// classifiers as SPDX (several as a choice; an unmapped one makes it unknown), else NOASSERTION; and
// the index listing's PEP 658 / 714 core-metadata marks (src/python/index.ts).
import {describe, expect, it} from 'vitest'
import {parseIndexPage} from '../../src/python/index.js'
import {coreMetadataLicense} from '../../src/python/license.js'

const metadata = (...lines: string[]): string => ['Metadata-Version: 2.4', 'Name: demo', 'Version: 1.0', ...lines, '', 'License: GPL-3.0-only (the body is not a header)', ''].join('\n')

describe('coreMetadataLicense', () => {
  it('takes License-Expression first, then an SPDX License field, then the classifiers', () => {
    expect(coreMetadataLicense(metadata('License-Expression: MIT OR Apache-2.0', 'License: BSD-3-Clause', 'Classifier: License :: OSI Approved :: GNU General Public License v3 (GPLv3)'))).toBe('MIT OR Apache-2.0')
    expect(coreMetadataLicense(metadata('License: BSD-3-Clause', 'Classifier: License :: OSI Approved :: MIT License'))).toBe('BSD-3-Clause')
    // Free text, and a whole licence text folded over continuation lines, are not SPDX: the classifiers decide.
    expect(coreMetadataLicense(metadata('License: The MIT License', 'Classifier: License :: OSI Approved :: MIT License'))).toBe('MIT')
    expect(coreMetadataLicense(metadata('License: MIT', '        Copyright (c) 2024 Someone', 'Classifier: License :: OSI Approved :: Apache Software License'))).toBe('Apache-2.0')
    expect(coreMetadataLicense(metadata('Classifier: Programming Language :: Python', 'Classifier: License :: OSI Approved :: GNU General Public License v3 (GPLv3)', 'Classifier: License :: OSI Approved :: MIT License', 'Classifier: License :: OSI Approved'))).toBe('GPL-3.0-only OR MIT')
  })

  it('is NOASSERTION when nothing declares a licence layers can read', () => {
    expect(coreMetadataLicense(metadata())).toBe('NOASSERTION')
    expect(coreMetadataLicense(metadata('License: see LICENSE.txt'))).toBe('NOASSERTION')
    expect(coreMetadataLicense(metadata('Classifier: License :: OSI Approved :: BSD License'))).toBe('NOASSERTION')
    expect(coreMetadataLicense(metadata('Classifier: License :: OSI Approved :: MIT License', 'Classifier: License :: Other/Proprietary License'))).toBe('NOASSERTION')
  })
})

describe('core metadata in index listings', () => {
  it('reads PEP 691 core-metadata (and dist-info-metadata) and PEP 714 data-core-metadata', () => {
    const sha = 'a'.repeat(64)
    const json = JSON.stringify({files: [
      {filename: 'a-1.0-py3-none-any.whl', url: 'a-1.0-py3-none-any.whl', hashes: {sha256: sha}, 'core-metadata': {sha256: sha.toUpperCase()}},
      {filename: 'b-1.0-py3-none-any.whl', url: 'b-1.0-py3-none-any.whl', hashes: {sha256: sha}, 'dist-info-metadata': true},
      {filename: 'c-1.0-py3-none-any.whl', url: 'c-1.0-py3-none-any.whl', hashes: {sha256: sha}, 'core-metadata': false},
    ]})
    expect(parseIndexPage(json, 'application/vnd.pypi.simple.v1+json', 'https://pypi.example/simple/a/').map((file) => file.coreMetadata)).toEqual([{sha256: sha}, true, undefined])
    const html = `<a href="a-1.0-py3-none-any.whl#sha256=${sha}" data-core-metadata="sha256=${sha}">a-1.0-py3-none-any.whl</a><a href="b-1.0-py3-none-any.whl#sha256=${sha}" data-dist-info-metadata="true">b-1.0-py3-none-any.whl</a><a href="c-1.0-py3-none-any.whl#sha256=${sha}">c-1.0-py3-none-any.whl</a>`
    expect(parseIndexPage(html, 'text/html', 'https://pypi.example/simple/a/').map((file) => file.coreMetadata)).toEqual([{sha256: sha}, true, undefined])
  })
})
