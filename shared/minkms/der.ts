// Just enough DER to cut the SubjectPublicKeyInfo out of a certificate. minkms identifies a peer
// by SHA-256 over the certificate's *raw* SPKI bytes (Go's RawSubjectPublicKeyInfo); re-exporting
// the parsed key through OpenSSL could re-encode it (explicit curve parameters, compressed points)
// and so give a different identity.
import { InvalidCertificateError } from './errors.js'

interface Tlv { tag: number, start: number, contentStart: number, end: number }

const SEQUENCE = 0x30
const CONTEXT_0 = 0xa0

function readTlv (der: Uint8Array, at: number): Tlv {
  const tag = der[at]
  let len = der[at + 1]
  if (tag === undefined || len === undefined) throw new InvalidCertificateError('certificate DER is truncated')
  let contentStart = at + 2
  if (len & 0x80) {
    const n = len & 0x7f
    if (n === 0 || n > 4) throw new InvalidCertificateError('certificate DER has an unsupported length encoding')
    len = 0
    for (let i = 0; i < n; i++) {
      const b = der[contentStart + i]
      if (b === undefined) throw new InvalidCertificateError('certificate DER is truncated')
      len = len * 256 + b
    }
    contentStart += n
  }
  const end = contentStart + len
  if (end > der.length) throw new InvalidCertificateError('certificate DER is truncated')
  return { tag, start: at, contentStart, end }
}

function expect (el: Tlv, tag: number, what: string): Tlv {
  if (el.tag !== tag) throw new InvalidCertificateError(`certificate DER: ${what} is not where X.509 puts it`)
  return el
}

/** The raw DER SubjectPublicKeyInfo of an X.509 certificate given as DER (a view, not a copy). */
export function subjectPublicKeyInfoOf (certDer: Uint8Array): Uint8Array {
  const cert = expect(readTlv(certDer, 0), SEQUENCE, 'Certificate')
  const tbs = expect(readTlv(certDer, cert.contentStart), SEQUENCE, 'TBSCertificate')
  let at = tbs.contentStart
  // [0] version is optional (absent for v1 certificates).
  const first = readTlv(certDer, at)
  if (first.tag === CONTEXT_0) at = first.end
  // serialNumber, signature, issuer, validity, subject
  for (let i = 0; i < 5; i++) at = readTlv(certDer, at).end
  const spki = expect(readTlv(certDer, at), SEQUENCE, 'SubjectPublicKeyInfo')
  if (spki.end > tbs.end) throw new InvalidCertificateError('certificate DER: SubjectPublicKeyInfo overruns TBSCertificate')
  return certDer.subarray(spki.start, spki.end)
}
