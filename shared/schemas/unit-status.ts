// A systemd unit's state as the agent reports it (agent/os/service-manager.ts UnitStatus).
import Type, { type Static } from 'typebox'

/** `systemctl show` properties of the managed unit. */
export const UnitStatusSchema = Type.Object({
  activeState: Type.String({ description: 'ActiveState: active, activating, deactivating, failed, inactive, reloading' }),
  subState: Type.String({ description: 'SubState: running, auto-restart, dead, failed, exited ...' }),
  result: Type.String({ description: 'Result: success, exit-code, signal, core-dump, timeout ...' }),
  invocationId: Type.String({ description: 'InvocationID of the current or last run; empty when it never ran' }),
  nRestarts: Type.Integer({ minimum: 0 }),
  mainPid: Type.Integer({ minimum: 0 }),
  execMainStatus: Type.Integer(),
  loadState: Type.String({ description: 'LoadState: loaded, not-found, masked, error ...' })
})
export type UnitStatus = Static<typeof UnitStatusSchema>
