#!/usr/bin/env node
// The `keyroll` command's entry point: hands run-cli.ts the process's argv and streams and sets
// the exit code.
import { runCli } from './run-cli.js'

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr })
