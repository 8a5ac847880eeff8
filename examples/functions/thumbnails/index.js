// ESM handler: renders a thumbnail with sharp (native, from the `images` layer built for x86_64)
// and validates its input with zod's v4 API through a package subpath.
import sharp from 'sharp'
import * as z from 'zod/v4'

const Request = z.object({width: z.number().int().min(8).max(1024).default(128), color: z.string().default('#3366ff')})

export const handler = async (event) => {
  const {width, color} = Request.parse(event ?? {})
  const png = await sharp({create: {width, height: width, channels: 3, background: color}}).png().toBuffer()
  return {width, bytes: png.length, format: 'png'}
}
