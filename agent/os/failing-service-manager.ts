// A ServiceManager whose every call fails the way the real one does when systemd cannot be
// reached (no bus, systemctl missing): for error paths of the applier, the verifier and the API.
import { OsPortError } from '../errors.js'
import type { ServiceManager, UnitStatus } from './service-manager.js'

/** Every call rejects with a typed AGT_ error. */
export class FailingServiceManager implements ServiceManager {
  constructor (readonly unit = 'minkms.service', readonly reason = 'Failed to connect to bus: No such file or directory') {}

  async status (): Promise<UnitStatus> {
    throw new OsPortError('AGT_UNIT_STATUS_FAILED', `systemctl show ${this.unit} failed: ${this.reason}`, { stderr: this.reason })
  }

  async restart (): Promise<void> {
    throw new OsPortError('AGT_UNIT_RESTART_FAILED', `systemctl restart ${this.unit} failed: ${this.reason}`, { stderr: this.reason })
  }
}
