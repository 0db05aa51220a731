// A small well-formedness check for the SVG the library writes (no XML parser among the dependencies).

/** Throws unless `xml` is well-formed: tags balanced, attributes quoted, no raw < or bare & in text. */
export function assertWellFormedXml(xml: string): void {
  const stack: string[] = [];
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<|&(?!(?:amp|lt|gt|quot|#39);)/g;
  let m: RegExpExecArray | null;
  while ((m = token.exec(xml)) !== null) {
    if (m[0] === "<") throw new Error(`a raw '<' at ${m.index}: ${xml.slice(m.index, m.index + 40)}`);
    if (m[0] === "&") throw new Error(`a bare '&' at ${m.index}: ${xml.slice(m.index, m.index + 40)}`);
    const [, closing, name, , selfClosing] = m;
    if (selfClosing) continue;
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}> at ${m.index}`);
    } else stack.push(name);
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join(">, <")}>`);
}
