// The API's page bound, apart from any schema: the request schemas take their maximum from here,
// and the CLI pages by it at run time without loading zod or any server code.

/**
 * Items one page of `GET /jobs`, `GET /jobs/:id` (its captures) or `GET /jobs/:id/captures` holds
 * at most: 500 capture records are a few hundred KB of JSON and 500 direct gets, so one
 * request's cost stays bounded (docs/LIMITS.md). A client wanting more follows `next_cursor`.
 */
export const PAGE_MAX = 500;
