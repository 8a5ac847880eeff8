// Reads a zip's central directory to learn its unzipped size, the way Lambda measures code and layer
// size against the 250 MiB limit. Rejects what is not a readable, non-empty zip.
import yauzl from 'yauzl'

/** The total uncompressed size of the entries, or undefined when the bytes are not a usable zip. */
export function unzippedSize(zip: Buffer): Promise<number | undefined> {
  return new Promise((resolve) => {
    yauzl.fromBuffer(zip, {lazyEntries: true, validateEntrySizes: false}, (error, file) => {
      if (error || !file) return resolve(undefined)
      let total = 0
      let entries = 0
      file.on('entry', (entry: yauzl.Entry) => {
        total += entry.uncompressedSize
        entries += 1
        file.readEntry()
      })
      file.on('end', () => resolve(entries > 0 ? total : undefined))
      file.on('error', () => resolve(undefined))
      file.readEntry()
    })
  })
}
