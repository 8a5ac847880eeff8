// Owns the names of the SSM parameters that hold each layer's version ARN (what infrastructure as code
// reads): the template of settings.ssm.parameterName, default `/layers/{layer}/{channel}/{architecture}`,
// filled in per layer, channel and architecture. A lock without channels has the one channel
// DEFAULT_CHANNEL. Pure.

export const DEFAULT_PARAMETER_NAME = '/layers/{layer}/{channel}/{architecture}'

/** The channel of a layer whose lock names none. */
export const DEFAULT_CHANNEL = 'default'

export interface ParameterNameValues {
  layer: string
  channel: string
  architecture: string
}

/** The parameter name `template` gives these values (each {layer}, {channel} and {architecture} replaced). */
export function ssmParameterName(template: string, values: ParameterNameValues): string {
  return template.replaceAll('{layer}', values.layer).replaceAll('{channel}', values.channel).replaceAll('{architecture}', values.architecture)
}
