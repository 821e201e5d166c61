// The environment for a Node child process a test starts. It leaves out NODE_V8_COVERAGE: a child
// that runs our code in another compiled form (dist/ from tsc, or tsx's own transform) would report
// coverage of the same source files with other byte ranges, and the unit tier's report then keeps
// one of the two at random: whole files came out 40-50 % covered in some clean-clone runs and fully
// covered in others. Coverage is measured in the test processes themselves.
export function childEnv (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { NODE_V8_COVERAGE: _coverage, ...rest } = process.env
  return { ...rest, ...extra }
}
