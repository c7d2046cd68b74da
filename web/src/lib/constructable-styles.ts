/**
 * The panel's Content-Security-Policy has `style-src 'self'` with no 'unsafe-inline', so a
 * `<style>` element made by script is refused. xterm.js makes three (theme, dimensions,
 * scrollbar). CSSOM is not restricted by CSP, so this shim hands script-made `<style>`
 * elements a stand-in whose `textContent` feeds a constructable stylesheet adopted by the
 * document (the way CodeMirror already injects its styles). Installed by the console chunk only.
 */

let installed = false;

export function installConstructableStyles(doc: Document = document): void {
  if (installed || typeof CSSStyleSheet === 'undefined' || !('adoptedStyleSheets' in doc)) return;
  installed = true;
  const create = doc.createElement.bind(doc) as (tag: string, options?: ElementCreationOptions) => HTMLElement;
  const patched = (tag: string, options?: ElementCreationOptions): HTMLElement => {
    if (tag.toLowerCase() !== 'style') return create(tag, options);
    // A <template> is inert: appending it renders nothing and the CSP has nothing to refuse.
    const standIn = create('template', options);
    const sheet = new CSSStyleSheet();
    let text = '';
    let adopted = false;
    const adopt = () => {
      if (!adopted) {
        doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
        adopted = true;
      }
    };
    Object.defineProperty(standIn, 'textContent', {
      get: () => text,
      set: (value: string | null) => {
        text = value ?? '';
        sheet.replaceSync(text);
        adopt();
      },
    });
    const remove = standIn.remove.bind(standIn);
    standIn.remove = () => {
      doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((s) => s !== sheet);
      adopted = false;
      remove();
    };
    return standIn;
  };
  doc.createElement = patched as Document['createElement'];
}
