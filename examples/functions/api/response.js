'use strict'

exports.toResponse = (statusCode, body) => ({
  statusCode,
  headers: {'content-type': 'application/json'},
  body: JSON.stringify(body),
})
