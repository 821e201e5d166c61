// Loaded into every tap test process (package.json "tap" → "node-arg"), after tap's
// @tapjs/processinfo import has started this process's own coverage recording.
//
// Why: processinfo also records coverage in every Node process a test starts. It puts itself into
// the child's NODE_OPTIONS and copies its _TAPJS_PROCESSINFO_* variables into the child's
// environment whatever env the test passes (an env without them, or with NODE_V8_COVERAGE removed,
// changes nothing). Those children run our sources in another compiled form: `node --import tsx
// main.ts` (the emulator in test/unit/lab/emulator/main.test.ts, the crash child) compiles
// shared/minkms/*.ts with esbuild under the same file URL that tap's ts-node compiles in the test
// processes. c8 then adds up V8 byte ranges of two different scripts under one URL and keeps one
// source map per URL, the one of the raw file it reads last; those files are named by random
// UUIDs, so the report changed from run to run: a whole file at 40-50 % (ts-node's map over
// esbuild's ranges) or as one covered line (esbuild's map won), although its tests passed.
//
// With the variable off here (this process has already registered), every descendant of a test
// process skips recording: coverage is what the test processes themselves ran, all compiled by
// ts-node, one script per file.
process.env._TAPJS_PROCESSINFO_COVERAGE_ = '0'
