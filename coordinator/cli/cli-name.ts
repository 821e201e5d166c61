// The command to print in "run this next" hints. In a checkout the CLI is started as
// `npx keyroll` (the package's bin is not on PATH), and a hint that says `keyroll …` then fails
// when pasted: npx runs its command with npm_command=exec in the environment, so the hints say
// `npx keyroll` there and `keyroll` everywhere else (an installed package, an alias).
export function cliName (env: NodeJS.ProcessEnv = process.env): string {
  return env.npm_command === 'exec' ? 'npx keyroll' : 'keyroll'
}
