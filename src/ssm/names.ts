// Owns the SSM parameter names of published layers: `settings.ssm.parameterName` (default
// DEFAULT_SSM_PARAMETER_NAME) with {layer}, {channel} and {architecture} filled in. Pure: no I/O.

/** The default template of `settings.ssm.parameterName`. */
export const DEFAULT_SSM_PARAMETER_NAME = '/layers/{layer}/{channel}/{architecture}'

/** The placeholders a template may use. */
export const SSM_NAME_PLACEHOLDERS = ['layer', 'channel', 'architecture'] as const

export interface SsmNameParts {
  layer: string
  channel: string
  /** An artifact key: `x86_64`, `arm64`, or `arm64+x86_64` for one artifact serving both. */
  architecture: string
}

/** The parameter name for one layer, channel and architecture: every `{placeholder}` of `template` replaced. */
export function ssmParameterName(template: string, {layer, channel, architecture}: SsmNameParts): string {
  return template.replace(/\{(layer|channel|architecture)\}/g, (_, key: string) => (key === 'layer' ? layer : key === 'channel' ? channel : architecture))
}
