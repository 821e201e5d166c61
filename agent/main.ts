#!/usr/bin/env node
// keyroll-agent's entry point (systemd runs `node /opt/keyroll/dist/agent/main.js serve`).
// Everything lives in agent/cli.ts so that tests can run it; this file only hands it the
// process's argv and streams and sets the exit code.
import { runCli } from './cli.js'

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr })
