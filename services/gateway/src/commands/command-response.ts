import type { CommandReply } from '@trackme/contracts';
import { RefusedError, toProblem } from '@trackme/platform';
import type { StoredResponse } from './operation-store.js';

/** The HTTP status of each outcome a command can have, but a refusal (whose status is its reason's). */
const OUTCOME_STATUS = { created: 201, changed: 200, unchanged: 200, deleted: 204 } as const;

/**
 * The answer to a command's reply: the older service's statuses, `{data: client}` on success and a
 * problem document, through the platform's one mapping, on a refusal. The only place a command's
 * outcome becomes HTTP.
 */
export function responseOf(reply: CommandReply): StoredResponse {
  switch (reply.outcome) {
    case 'refused': {
      const problem = toProblem(new RefusedError(reply.refusal));
      return { status: problem.status, body: problem };
    }
    case 'deleted':
      return { status: OUTCOME_STATUS.deleted };
    default:
      return { status: OUTCOME_STATUS[reply.outcome], body: { data: reply.client } };
  }
}
