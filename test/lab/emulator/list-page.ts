// Pagination of LIST commands (ListRequest{Prefix, ContinueAt, Limit}): names in ascending order
// that start with Prefix, from ContinueAt on (inclusive), at most Limit of them (0 → all). The
// response's ContinueAt is the next name when more remain, else empty.

export interface ListParams { prefix: string, continueAt: string, limit: number }

export function listPage (sortedNames: readonly string[], p: ListParams): { items: string[], continueAt: string } {
  const matching = sortedNames.filter((n) => n.startsWith(p.prefix) && (p.continueAt === '' || n >= p.continueAt))
  if (p.limit <= 0 || matching.length <= p.limit) return { items: matching, continueAt: '' }
  return { items: matching.slice(0, p.limit), continueAt: matching[p.limit] ?? '' }
}
