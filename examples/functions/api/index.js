'use strict'
// CommonJS handler: validates an order with zod (from the `common` layer) and reads shared
// settings from the `config` layer.
const {z} = require('zod')
const config = require('@acme/config')
const {toResponse} = require('./response')

const Order = z.object({
  id: z.string().min(1),
  items: z.array(z.object({sku: z.string(), quantity: z.number().int().positive()})).min(1),
})

exports.handler = async (event) => {
  const body = typeof event.body === 'string' ? JSON.parse(event.body) : event.body ?? event
  const parsed = Order.safeParse(body)
  if (!parsed.success) return toResponse(400, {error: 'invalid order', issues: parsed.error.issues.length})
  const quantity = parsed.data.items.reduce((sum, item) => sum + item.quantity, 0)
  return toResponse(200, {id: parsed.data.id, quantity, table: config.tableName})
}
