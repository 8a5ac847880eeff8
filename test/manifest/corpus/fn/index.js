exports.handler = async () => 'ok'
