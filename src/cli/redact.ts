// Owns secret redaction: every text the tool prints or stores passes through redact(), so access
// keys, session tokens and npm auth tokens never reach logs, the lockfile or the database.

const patterns: Array<[RegExp, string]> = [
  // AWS access key ids (long-term AKIA, temporary ASIA).
  [/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, '$1****************'],
  // key=value or key: value forms of secrets.
  [
    /((?:aws_secret_access_key|aws_session_token|secretAccessKey|sessionToken|SecretAccessKey|SessionToken|_authToken|_auth|_password|password|token)["']?\s*[:=]\s*["']?)[^\s"',}]+/gi,
    '$1[REDACTED]',
  ],
  // HTTP authorization headers and pre-signed URL signatures.
  [/(Authorization:\s*)(Bearer|Basic|AWS4-HMAC-SHA256)\s+[^\r\n]+/gi, '$1$2 [REDACTED]'],
  [/(X-Amz-(?:Signature|Security-Token|Credential)=)[^&\s]+/gi, '$1[REDACTED]'],
  // npm automation/granular tokens.
  [/\bnpm_[A-Za-z0-9]{36}\b/g, 'npm_[REDACTED]'],
]

export function redact(text: string): string {
  let result = text
  for (const [pattern, replacement] of patterns) result = result.replace(pattern, replacement)
  return result
}
