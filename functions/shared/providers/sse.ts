/**
 * A Server-Sent Events parser (the WHATWG "event stream interpretation", minus reconnection): bytes in,
 * whatever the chunking, events out. UTF-8 split across chunks, LF, CR and CRLF line ends (also a CRLF cut
 * between two chunks), `data:` lines joined with LF, `event:` and `id:`, comments (`:`) and unknown fields
 * ignored, an event dispatched at a blank line. Small enough to own: the only SSE in voicedrop is Smallest's.
 */

export interface ServerSentEvent {
  /** `message` unless an `event:` field said otherwise. */
  readonly event: string;
  readonly data: string;
  /** The last `id:` seen, if any (carried over to later events, as the spec says). */
  readonly id?: string;
}

const LF = 10;
const CR = 13;

export class SseParser {
  // TextDecoder drops a leading BOM by default, as the spec asks.
  private readonly decoder = new TextDecoder('utf-8');
  /** Text after the last line end. */
  private pending = '';
  /** The previous chunk ended in CR: a LF starting this one belongs to the same line end. */
  private afterCr = false;
  private data: string[] = [];
  private event = '';
  private lastId: string | undefined;

  /** The events completed by `bytes`. */
  push(bytes: Uint8Array): ServerSentEvent[] {
    return this.feed(this.decoder.decode(bytes, { stream: true }));
  }

  /**
   * The events left when the stream ends. A last line without its line end is dropped, as the spec says
   * (the stream was cut inside it); unlike the spec, an event whose lines are whole but whose blank line
   * never came is still dispatched, so a provider that omits the final blank line is not read as one
   * that stopped early.
   */
  end(): ServerSentEvent[] {
    const events = this.feed(this.decoder.decode());
    this.pending = '';
    this.dispatch(events);
    return events;
  }

  private feed(text: string): ServerSentEvent[] {
    const events: ServerSentEvent[] = [];
    let start = 0;
    for (let index = 0; index < text.length; index += 1) {
      const code = text.charCodeAt(index);
      if (this.afterCr) {
        this.afterCr = false;
        if (code === LF) {
          start = index + 1;
          continue;
        }
      }
      if (code !== LF && code !== CR) continue;
      const line = this.pending + text.slice(start, index);
      this.pending = '';
      this.line(line, events);
      start = index + 1;
      this.afterCr = code === CR;
    }
    this.pending += text.slice(start);
    return events;
  }

  private line(line: string, events: ServerSentEvent[]): void {
    if (line === '') {
      this.dispatch(events);
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    // `retry` and unknown fields: nothing to do without reconnection.
  }

  private dispatch(events: ServerSentEvent[]): void {
    if (this.data.length > 0) {
      events.push({
        event: this.event || 'message',
        data: this.data.join('\n'),
        ...(this.lastId === undefined ? {} : { id: this.lastId }),
      });
    }
    this.data = [];
    this.event = '';
  }
}
