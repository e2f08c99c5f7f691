/** `list [--status S] [--limit N]`: GET /identities, following next_token. */
import { EXIT } from '#cli/exit-codes.js';
import { formatList, type ListItemView } from '#cli/format.js';
import { type Command, integerFlag, noPositionals, stringFlag } from './command.js';

/** The API's largest page. */
const MAX_PAGE = 100;

interface Page {
  items?: ListItemView[];
  next_token?: string | null;
}

export const list: Command = {
  name: 'list',
  synopsis: 'list',
  summary: 'the identities the stack manages, every page (--status, --limit)',
  help: `Every identity the stack manages, page after page: by name, or newest change first under a
status.

  --status STATUS            only PENDING, VERIFIED, FAILED, TIMED_OUT or DEGRADED identities
  --limit N                  at most N identities (default: all of them)

With --json: {"items": [...], "next_token": null}, the pages' items together; next_token is
where the next page would start when --limit stopped short of the end.`,
  options: { status: { type: 'string' }, limit: { type: 'string' } },
  async run(context) {
    noPositionals(context, 'list');
    const status = stringFlag(context.values, 'status');
    const limit = integerFlag(context.values, 'limit', 1);
    const api = await context.api();
    const items: ListItemView[] = [];
    let nextToken: string | null = null;
    do {
      const pageSize = Math.min(MAX_PAGE, limit === undefined ? MAX_PAGE : limit - items.length);
      const { data }: { data: Page } = await api.send<Page>({
        method: 'GET',
        path: '/identities',
        query: {
          status,
          limit: String(pageSize),
          ...(nextToken !== null && { next_token: nextToken }),
        },
      });
      items.push(...(data.items ?? []));
      nextToken = data.next_token ?? null;
    } while (nextToken !== null && (limit === undefined || items.length < limit));
    if (context.json) context.out.json({ items, next_token: nextToken });
    else for (const line of formatList(items, nextToken)) context.out.line(line);
    return EXIT.OK;
  },
};
