// The checksums S3 accepts on uploads (x-amz-checksum-* headers or aws-chunked trailers): CRC32,
// CRC32C, CRC64NVME, SHA1, SHA256, each as the base64 of its big-endian digest; and the decoder of
// the aws-chunked content encoding current SDKs use for streaming bodies.
import {createHash} from 'node:crypto'
import {crc32} from 'node:zlib'

export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number]

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

const CRC64NVME_TABLE = (() => {
  const poly = 0x9a6c9329ac4bc9b5n
  const table: bigint[] = []
  for (let n = 0n; n < 256n; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1n ? poly ^ (c >> 1n) : c >> 1n
    table.push(c)
  }
  return table
})()

function crc32c(data: Buffer): Buffer {
  let crc = 0xffffffff
  for (const byte of data) crc = CRC32C_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8)
  const out = Buffer.alloc(4)
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0)
  return out
}

function crc64nvme(data: Buffer): Buffer {
  const mask = 0xffffffffffffffffn
  let crc = mask
  for (const byte of data) crc = CRC64NVME_TABLE[Number((crc ^ BigInt(byte)) & 0xffn)]! ^ (crc >> 8n)
  const out = Buffer.alloc(8)
  out.writeBigUInt64BE((crc ^ mask) & mask)
  return out
}

/** The raw digest bytes of `data` under `algorithm`. */
export function checksumBytes(algorithm: ChecksumAlgorithm, data: Buffer): Buffer {
  switch (algorithm) {
    case 'CRC32': {
      const out = Buffer.alloc(4)
      out.writeUInt32BE(crc32(data) >>> 0)
      return out
    }
    case 'CRC32C':
      return crc32c(data)
    case 'CRC64NVME':
      return crc64nvme(data)
    case 'SHA1':
      return createHash('sha1').update(data).digest()
    case 'SHA256':
      return createHash('sha256').update(data).digest()
  }
}

export function checksum(algorithm: ChecksumAlgorithm, data: Buffer): string {
  return checksumBytes(algorithm, data).toString('base64')
}

export function algorithmOfHeader(name: string): ChecksumAlgorithm | undefined {
  const match = /^x-amz-checksum-(crc32|crc32c|crc64nvme|sha1|sha256)$/.exec(name.toLowerCase())
  return match ? (match[1]!.toUpperCase() as ChecksumAlgorithm) : undefined
}

export class ChunkedEncodingError extends Error {}

/**
 * Decodes an aws-chunked body: `hex-size[;chunk-signature=...]\r\n data \r\n` ... `0\r\n`, then
 * trailer lines `name:value\r\n` and a final `\r\n`. Returns the payload and the trailers.
 */
export function decodeAwsChunked(body: Buffer): {data: Buffer; trailers: Record<string, string>} {
  const parts: Buffer[] = []
  let offset = 0
  const line = (): string => {
    const end = body.indexOf('\r\n', offset, 'latin1')
    if (end === -1) throw new ChunkedEncodingError('aws-chunked body ends inside a chunk header')
    const text = body.subarray(offset, end).toString('latin1')
    offset = end + 2
    return text
  }
  for (;;) {
    const head = line()
    const size = Number.parseInt(head.split(';')[0]!, 16)
    if (!Number.isFinite(size) || size < 0 || !/^[0-9a-fA-F]+$/.test(head.split(';')[0]!)) throw new ChunkedEncodingError(`aws-chunked chunk size is not hex: ${head}`)
    if (size === 0) break
    if (offset + size + 2 > body.length) throw new ChunkedEncodingError('aws-chunked body shorter than its chunk sizes')
    parts.push(body.subarray(offset, offset + size))
    offset += size
    if (body.subarray(offset, offset + 2).toString('latin1') !== '\r\n') throw new ChunkedEncodingError('aws-chunked chunk not followed by CRLF')
    offset += 2
  }
  const trailers: Record<string, string> = {}
  while (offset < body.length) {
    const text = line()
    if (text === '') break
    const colon = text.indexOf(':')
    if (colon === -1) throw new ChunkedEncodingError(`aws-chunked trailer is not name:value: ${text}`)
    trailers[text.slice(0, colon).trim().toLowerCase()] = text.slice(colon + 1).trim()
  }
  return {data: Buffer.concat(parts), trailers}
}
