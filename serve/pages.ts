// The pages of serve, rendered on the server with the `html` tag (every value escaped). Forms work
// without JavaScript; /assets/live.js (the only script, a local file) keeps [data-live] lists fresh.
import { dollars } from '../core/money';
import type { WaitingItem } from '../client/inbox';
import type { LineView, Snapshot } from '../client/snapshot';
import type { ApprovalRecord } from '../workflows/messages';
import type { StepAction } from '../api/types';
import { html, pathOf, type Html } from './html';
import type { SignedLink } from './links';

export interface PageContext {
  operator?: string;
  csrf?: string;
  /** The SSE address that tells this page it changed. */
  live?: string;
  /** The process's event stream: the page's activity list is drawn from it. */
  events?: string;
  notice?: string;
}

export function layout(title: string, context: PageContext, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · coasty-temporal</title>
<link rel="stylesheet" href="/assets/serve.css">
<script src="/assets/live.js" defer></script>
</head>
<body${context.live ? html` data-live-source="${context.live}"` : ''}${context.events ? html` data-events-source="${context.events}"` : ''}>
<header>
<a class="brand" href="/">coasty-temporal</a>
<nav><a href="/">Inbox</a></nav>
${
  context.operator
    ? html`<span class="who">signed in as <b>${context.operator}</b></span
        >${
          context.csrf
            ? html`<form method="post" action="/signout" class="inline">
                <input type="hidden" name="csrf" value="${context.csrf}" /><button>Sign out</button>
              </form>`
            : ''
        }`
    : ''
}
</header>
<main>
${context.notice ? html`<p class="notice" role="status">${context.notice}</p>` : ''}
${body}
</main>
</body>
</html>
`;
}

export function signInPage(problem?: string): Html {
  return layout(
    'Sign in',
    {},
    html`<h1>Sign in</h1>
      ${problem ? html`<p class="problem" role="alert">${problem}</p>` : ''}
      <form method="post" action="/signin" class="card">
        <label
          >Operator token
          <input type="password" name="token" autocomplete="current-password" required autofocus
        /></label>
        <button type="submit">Sign in</button>
      </form>
      <p class="hint">Tokens come from COASTY_SERVE_TOKENS (name=token,...) on the server.</p>`,
  );
}

export function messagePage(title: string, context: PageContext, message: string, status: number): Html {
  return layout(
    title,
    context,
    html`<h1>${title}</h1>
      <p class="problem" data-status="${status}">${message}</p>
      <p><a href="/">Back to the inbox</a></p>`,
  );
}

const usd = (value: number | undefined) => (value === undefined ? '' : dollars(value));

function when(iso: string | undefined): Html {
  if (!iso) return html``;
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;
}

export function describeAction(action: StepAction | undefined): string {
  if (!action) return '';
  const parts: string[] = [action.type];
  if (action.url) parts.push(action.url);
  if (action.text) parts.push(JSON.stringify(action.text));
  if (action.x !== undefined && action.y !== undefined) parts.push(`at ${action.x},${action.y}`);
  return parts.join(' ');
}

const WHERE: Record<WaitingItem['where'], string> = {
  gate: 'approval gate',
  step: 'chain step',
  item: 'batch item',
  run: 'run',
  budget: 'budget',
};

function decisionForm(processId: string, requestId: string, csrf: string | undefined): Html {
  return html`<form method="post" action="${pathOf('processes', processId, 'decisions')}" class="decide">
    <input type="hidden" name="csrf" value="${csrf ?? ''}" />
    <input type="hidden" name="requestId" value="${requestId}" />
    <label
      >Message
      <textarea
        name="message"
        rows="2"
        maxlength="2000"
        placeholder="for the agent and the record"
      ></textarea>
    </label>
    <button type="submit" name="action" value="approve" class="approve">Approve</button>
    <button type="submit" name="action" value="reject" class="reject">Reject</button>
  </form>`;
}

function budgetForm(
  processId: string,
  item: { maxCostUsd?: number; neededUsd?: number },
  csrf?: string,
): Html {
  const suggested = Math.max(item.neededUsd ?? 0, item.maxCostUsd ?? 0);
  return html`<form method="post" action="${pathOf('processes', processId, 'budget')}" class="decide">
    <input type="hidden" name="csrf" value="${csrf ?? ''}" />
    <label
      >New budget (USD)
      <input type="number" name="maxCostUsd" min="0.01" step="0.01" value="${suggested.toFixed(2)}" required
    /></label>
    <button type="submit">Raise the budget</button>
  </form>`;
}

function waitingCard(item: WaitingItem, context: PageContext): Html {
  const line = item.line;
  return html`<article class="card waiting" data-key="${item.key}" data-hash="${hashOf(item)}">
    <h2>
      <a href="${pathOf('processes', item.processId)}">${item.processName}</a>
      <span class="kind">${item.processKind}</span>
    </h2>
    <dl>
      <dt>Waiting</dt>
      <dd>
        ${WHERE[item.where]}${item.id ? html` <code>${item.id}</code>` : ''} of <code>${item.processId}</code>
      </dd>
      <dt>Reason</dt>
      <dd class="agent-text">${item.reason}</dd>
      ${
        item.proposedAction
          ? html`<dt>Proposed action</dt>
              <dd class="agent-text">${item.proposedAction}</dd>`
          : ''
      }
      ${
        item.recent?.length
          ? html`<dt>Last steps</dt>
              <dd>
                <ol class="recent">
                  ${item.recent.map(
                    (step) =>
                      html`<li>
                        <span class="agent-text">${describeAction(step.action)}</span>${
                          step.observation
                            ? html` <span class="observation agent-text">${step.observation}</span>`
                            : ''
                        }
                      </li>`,
                  )}
                </ol>
              </dd>`
          : line?.action
            ? html`<dt>Last step</dt>
                <dd class="agent-text">${describeAction(line.action)}</dd>`
            : ''
      }
      ${
        line
          ? html`<dt>Steps</dt>
              <dd>${line.steps}${line.maxSteps ? ` of ${line.maxSteps}` : ''} (run ${usd(line.costUsd)})</dd>`
          : ''
      }
      <dt>Since</dt>
      <dd>${when(item.since)}</dd>
      ${
        item.timeoutAt
          ? html`<dt>Timeout</dt>
              <dd>${when(item.timeoutAt)}, then ${item.timeoutPolicy ?? 'reject'}</dd>`
          : ''
      }
      <dt>Cost</dt>
      <dd>
        ${usd(item.costUsd)}${item.maxCostUsd !== undefined ? ` of ${usd(item.maxCostUsd)} budget` : ''}
      </dd>
    </dl>
    ${
      item.where === 'budget'
        ? budgetForm(item.processId, item, context.csrf)
        : decisionForm(item.processId, item.requestId!, context.csrf)
    }
  </article>`;
}

/** What a card shows, in short: the script replaces a card whose hash changed. */
function hashOf(value: unknown): string {
  let hash = 0;
  for (const char of JSON.stringify(value)) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) | 0;
  return (hash >>> 0).toString(36);
}

export function inboxPage(items: WaitingItem[], context: PageContext): Html {
  return layout(
    'Inbox',
    context,
    html`<h1>Waiting for a person <span class="count" data-count>${items.length}</span></h1>
      <section data-live="inbox" class="cards">${items.map((item) => waitingCard(item, context))}</section>
      <p class="empty" ${items.length ? 'hidden' : ''}>Nothing waits for a person.</p>`,
  );
}

export interface ProcessView {
  snapshot: Snapshot;
  decisions: Array<ApprovalRecord & { where?: string }>;
  waiting: WaitingItem[];
}

function lineRow(line: LineView): Html {
  const detail = line.error
    ? `${line.error.type}: ${line.error.message}`
    : line.result
      ? line.result
      : (line.question ?? '');
  return html`<tr data-key="${line.id}" data-hash="${hashOf(line)}">
    <td><code>${line.id}</code></td>
    <td>${line.type}</td>
    <td class="state state-${line.state}">${line.state}</td>
    <td>${line.type === 'agent' ? `${line.steps}${line.maxSteps ? ` / ${line.maxSteps}` : ''}` : ''}</td>
    <td>${line.type === 'agent' ? usd(line.costUsd) : ''}</td>
    <td class="agent-text">${describeAction(line.action)}</td>
    <td class="agent-text">${detail}</td>
  </tr>`;
}

export function processPage(view: ProcessView, context: PageContext): Html {
  const { snapshot } = view;
  const closed = snapshot.execution !== 'RUNNING';
  const batch = snapshot.batch;
  return layout(
    snapshot.name,
    context,
    html`<h1>${snapshot.name} <span class="kind">${snapshot.kind}</span></h1>
      <section data-live="summary">
        <dl
          class="card"
          data-key="summary"
          data-hash="${hashOf([snapshot.status, snapshot.execution, snapshot.costUsd, snapshot.maxCostUsd, batch])}"
        >
          <dt>Process</dt>
          <dd><code>${snapshot.workflowId}</code></dd>
          <dt>Status</dt>
          <dd class="state state-${snapshot.status}" data-status>${snapshot.status}</dd>
          <dt>Temporal</dt>
          <dd>${snapshot.execution.toLowerCase()}</dd>
          <dt>Cost</dt>
          <dd>
            ${usd(snapshot.costUsd)}${snapshot.maxCostUsd !== undefined ? ` of ${usd(snapshot.maxCostUsd)} budget` : ''}
          </dd>
          <dt>Started</dt>
          <dd>${when(snapshot.startedAt)}</dd>
          ${
            snapshot.closedAt
              ? html`<dt>Ended</dt>
                  <dd>${when(snapshot.closedAt)}</dd>`
              : ''
          }
          ${
            batch
              ? html`<dt>Items</dt>
                  <dd>
                    ${batch.done} done, ${batch.failed} failed, ${batch.running} running, ${batch.pending}
                    pending of ${batch.total}${batch.paused ? ' (paused)' : ''}
                  </dd>`
              : ''
          }
          ${
            snapshot.progressError
              ? html`<dt>Progress</dt>
                  <dd class="problem">${snapshot.progressError}</dd>`
              : ''
          }
        </dl>
      </section>
      <section data-live="waiting" class="cards">
        ${view.waiting.map((item) => waitingCard(item, context))}
      </section>
      <h2>${snapshot.kind === 'batch' ? 'Items in flight' : 'Steps'}</h2>
      <table>
        <thead>
          <tr>
            <th>Id</th>
            <th>Type</th>
            <th>State</th>
            <th>Steps</th>
            <th>Cost</th>
            <th>Current action</th>
            <th>Result / question</th>
          </tr>
        </thead>
        <tbody data-live="lines">
          ${snapshot.lines.map(lineRow)}
        </tbody>
      </table>
      <h2>Decisions</h2>
      <ul data-live="decisions" class="decisions">
        ${view.decisions.map(
          (decision) =>
            html`<li data-key="${decision.requestId}-${decision.at}" data-hash="${hashOf(decision)}">
              <b>${decision.action}</b>${decision.where ? html` <code>${decision.where}</code>` : ''} by
              <b>${decision.by ?? (decision.timedOut ? 'the timeout policy' : 'unknown')}</b>
              ${when(decision.at)}${decision.message ? html`: <span class="agent-text">${decision.message}</span>` : ''}
            </li>`,
        )}
      </ul>
      ${
        context.events
          ? html`<h2>Activity</h2>
              <ol class="activity" data-events></ol>`
          : ''
      }
      ${
        closed
          ? ''
          : html`<p>
              <a class="danger" href="${pathOf('processes', snapshot.workflowId, 'cancel')}"
                >Cancel this process…</a
              >
            </p>`
      }`,
  );
}

export function cancelPage(snapshot: Snapshot, context: PageContext): Html {
  return layout(
    `Cancel ${snapshot.name}`,
    context,
    html`<h1>Cancel ${snapshot.name}?</h1>
      <p>
        Its runs in flight are cancelled at the runs API and it ends <b>cancelled</b>. This cannot be undone.
      </p>
      <form method="post" action="${pathOf('processes', snapshot.workflowId, 'cancel')}" class="card">
        <input type="hidden" name="csrf" value="${context.csrf ?? ''}" />
        <input type="hidden" name="confirm" value="yes" />
        <button type="submit" class="reject">Yes, cancel ${snapshot.workflowId}</button>
        <a href="${pathOf('processes', snapshot.workflowId)}">No, keep it</a>
      </form>`,
  );
}

export function linkPage(link: SignedLink, item: WaitingItem | undefined, params: URLSearchParams): Html {
  const verb = link.action === 'approve' ? 'Approve' : 'Reject';
  return layout(
    `${verb}?`,
    {},
    html`<h1>${verb} this?</h1>
      <dl class="card">
        <dt>Process</dt>
        <dd><code>${item?.processId ?? link.workflowId}</code>${item ? html` (${item.processName})` : ''}</dd>
        <dt>Reason</dt>
        <dd class="agent-text">${item?.reason ?? ''}</dd>
        ${
          item?.proposedAction
            ? html`<dt>Proposed action</dt>
                <dd class="agent-text">${item.proposedAction}</dd>`
            : ''
        }
        ${
          item
            ? html`<dt>Cost</dt>
                <dd>${usd(item.costUsd)}</dd>`
            : ''
        }
        <dt>Link expires</dt>
        <dd>${when(new Date(link.expiresAt * 1000).toISOString())}</dd>
      </dl>
      <form method="post" action="/link" class="card">
        ${[...params].map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`)}
        <label>Message <textarea name="message" rows="2" maxlength="2000"></textarea></label>
        <button type="submit" class="${link.action}">Confirm: ${verb.toLowerCase()}</button>
      </form>`,
  );
}
