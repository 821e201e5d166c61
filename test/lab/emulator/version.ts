// What the emulator reports as its version: the minkms release whose banner and behaviour it
// copies, with a commit that says it is the emulator.

/** minkms release the emulator imitates. */
export const EMULATOR_VERSION = '2025-11-12T19-14-51Z'

/** A 40-hex "commit": `e` for emulator, so a log reader can tell it from a real build. */
export const EMULATOR_COMMIT = 'e'.repeat(40)

/** API version of the wire protocol. */
export const API_VERSION = 'v1'

/** Output of `minkms --version`. */
export function versionText (): string {
  return `minkms version ${EMULATOR_VERSION} (commit=${EMULATOR_COMMIT}, minkms-emulator)`
}
