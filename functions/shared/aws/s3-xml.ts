/**
 * A small XML reader for the few documents S3 answers with (ListVersionsResult, ListBucketResult,
 * Error). It builds a tree of elements with their text; attributes and namespaces are skipped, which
 * S3's documents do not need. It is strict where leniency would be unsafe: a document type declaration
 * is refused (no entity expansion of any kind), only the five predefined entities and character
 * references are decoded, and tags must nest properly. Anything else throws `XmlSyntaxError`.
 */

export interface XmlElement {
  readonly name: string;
  readonly children: readonly XmlElement[];
  /** The element's own character data (CDATA included), entities decoded; '' when it has none. */
  readonly text: string;
}

export class XmlSyntaxError extends Error {
  constructor(message: string, offset: number) {
    super(`${message} at offset ${offset}`);
    this.name = 'XmlSyntaxError';
  }
}

interface MutableElement {
  name: string;
  children: MutableElement[];
  text: string;
}

const NAME = /[A-Za-z_:][\w.:-]*/y;

/** Parses `source` and returns its root element. */
export function parseXml(source: string): XmlElement {
  const stack: MutableElement[] = [];
  let root: MutableElement | undefined;
  let position = 0;

  const fail = (message: string): never => {
    throw new XmlSyntaxError(message, position);
  };
  const skipPast = (terminator: string, what: string) => {
    const end = source.indexOf(terminator, position);
    if (end < 0) fail(`unterminated ${what}`);
    const content = source.slice(position, end);
    position = end + terminator.length;
    return content;
  };

  while (position < source.length) {
    const open = source.indexOf('<', position);
    const textEnd = open < 0 ? source.length : open;
    if (textEnd > position) {
      const raw = source.slice(position, textEnd);
      const current = stack.at(-1);
      if (current) current.text += decodeEntities(raw, position);
      else if (raw.trim() !== '') fail('text outside the root element');
      position = textEnd;
      continue;
    }

    if (source.startsWith('<?', position)) {
      position += 2;
      skipPast('?>', 'processing instruction');
    } else if (source.startsWith('<!--', position)) {
      position += 4;
      skipPast('-->', 'comment');
    } else if (source.startsWith('<![CDATA[', position)) {
      position += 9;
      const data = skipPast(']]>', 'CDATA section');
      const current = stack.at(-1);
      if (!current) fail('CDATA outside the root element');
      else current.text += data;
    } else if (source.startsWith('<!', position)) {
      // DOCTYPE and ENTITY declarations are where entity-expansion attacks live: S3 never sends them.
      fail('document type declarations are not accepted');
    } else if (source.startsWith('</', position)) {
      position += 2;
      const name = readName();
      while (/\s/.test(source[position] ?? '')) position += 1;
      if (source[position] !== '>') fail(`malformed end tag </${name}`);
      position += 1;
      const current = stack.pop();
      if (current?.name !== name) fail(`</${name}> does not close <${current?.name ?? '(nothing)'}>`);
    } else {
      position += 1;
      const name = readName();
      const selfClosing = skipAttributes();
      const element: MutableElement = { name, children: [], text: '' };
      const parent = stack.at(-1);
      if (parent) parent.children.push(element);
      else if (root) fail('a second root element');
      else root = element;
      if (!selfClosing) stack.push(element);
    }
  }
  if (stack.length > 0) fail(`<${stack.at(-1)?.name}> is not closed`);
  if (!root) return fail('no root element');
  return root;

  function readName(): string {
    NAME.lastIndex = position;
    const match = NAME.exec(source);
    if (!match) return fail('expected a tag name');
    position = NAME.lastIndex;
    return match[0];
  }

  /** Moves past the attributes and the closing `>` or `/>`; returns whether the tag closes itself. */
  function skipAttributes(): boolean {
    while (position < source.length) {
      const character = source[position];
      if (character === '>') {
        position += 1;
        return false;
      }
      if (character === '/' && source[position + 1] === '>') {
        position += 2;
        return true;
      }
      if (character === '"' || character === "'") {
        const end = source.indexOf(character, position + 1);
        if (end < 0) fail('unterminated attribute value');
        position = end + 1;
      } else if (character === '<') {
        fail('"<" inside a tag');
      } else {
        position += 1;
      }
    }
    return fail('unterminated tag');
  }
}

const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(raw: string, offset: number): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;&\s]{0,12});?/g, (whole, entity: string) => {
    if (!whole.endsWith(';')) throw new XmlSyntaxError(`unterminated entity "${whole}"`, offset);
    const predefined = PREDEFINED[entity];
    if (predefined !== undefined) return predefined;
    const reference = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(entity);
    const codePoint = reference
      ? Number.parseInt(reference[1] ?? reference[2] ?? '', reference[1] ? 16 : 10)
      : -1;
    if (codePoint < 0 || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) {
      throw new XmlSyntaxError(`unknown entity "${whole}"`, offset);
    }
    return String.fromCodePoint(codePoint);
  });
}

/** The first child element named `name`. */
export function childElement(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((child) => child.name === name);
}

/** Every child element named `name`, in document order. */
export function childElements(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((child) => child.name === name);
}

/** The text of the first child element named `name`; undefined when there is no such child. */
export function childText(element: XmlElement, name: string): string | undefined {
  return childElement(element, name)?.text;
}
