// The one escaping helper: every page is built with the `html` tag, which escapes every value it is
// given unless it is already Html (built by `html` itself). Agent text is untrusted: besides the five
// HTML characters, bidirectional controls (which reorder what a person reads) are shown as visible
// marks, and nothing becomes a link or a script.

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Bidirectional embeddings, overrides and isolates, and the marks: U+202A-202E, U+2066-2069, U+200E-200F, U+061C. */
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

export function escapeText(value: string): string {
  return value
    .replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!)
    .replace(
      BIDI_CONTROLS,
      (char) => `[U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`,
    );
}

type Value = Html | string | number | boolean | null | undefined | Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeText(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  values.forEach((value, index) => {
    out += render(value) + strings[index + 1]!;
  });
  return new Html(out);
}

/** A path segment or query value inside an attribute: percent-encoded, then escaped by `html`. */
export function pathOf(...segments: string[]): string {
  return `/${segments.map(encodeURIComponent).join('/')}`;
}
