/**
 * The text editor: CodeMirror 6 in its own chunk, the language chosen by the file's extension.
 * Ctrl-S (Cmd-S) saves. Tab is not captured (no indentWithTab), so the keyboard leaves the
 * editor with Tab as from any text field; the hint above the editor says so.
 */
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { javascript } from '@codemirror/lang-javascript';
import { json } from '@codemirror/lang-json';
import { markdown } from '@codemirror/lang-markdown';
import { xml } from '@codemirror/lang-xml';
import { yaml } from '@codemirror/lang-yaml';
import { StreamLanguage, bracketMatching, defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { properties } from '@codemirror/legacy-modes/mode/properties';
import { shell } from '@codemirror/legacy-modes/mode/shell';
import { toml } from '@codemirror/legacy-modes/mode/toml';
import { EditorState, type Extension } from '@codemirror/state';
import { EditorView, keymap, lineNumbers } from '@codemirror/view';
import { useEffect, useRef } from 'react';

function language(path: string): Extension {
  const ext = path.split('.').pop()?.toLowerCase() ?? '';
  switch (ext) {
    case 'js':
    case 'mjs':
    case 'cjs':
      return javascript();
    case 'ts':
      return javascript({ typescript: true });
    case 'json':
    case 'mcmeta':
      return json();
    case 'yml':
    case 'yaml':
      return yaml();
    case 'xml':
    case 'html':
      return xml();
    case 'md':
      return markdown();
    case 'properties':
    case 'cfg':
    case 'ini':
    case 'conf':
      return StreamLanguage.define(properties);
    case 'toml':
      return StreamLanguage.define(toml);
    case 'sh':
    case 'bash':
      return StreamLanguage.define(shell);
    default:
      return [];
  }
}

export default function Editor({
  path,
  initial,
  label,
  describedBy,
  onChange,
  onSave,
}: {
  path: string;
  initial: string;
  label: string;
  describedBy: string;
  onChange: (text: string) => void;
  onSave: (text: string) => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const save = useRef(onSave);
  const change = useRef(onChange);
  save.current = onSave;
  change.current = onChange;

  useEffect(() => {
    if (!host.current) return undefined;
    const view = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: initial,
        extensions: [
          lineNumbers(),
          history(),
          bracketMatching(),
          syntaxHighlighting(defaultHighlightStyle),
          language(path),
          keymap.of([
            { key: 'Mod-s', preventDefault: true, run: (v) => (save.current(v.state.doc.toString()), true) },
            ...defaultKeymap,
            ...historyKeymap,
          ]),
          EditorView.contentAttributes.of({ 'aria-label': label, 'aria-describedby': describedBy }),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) change.current(update.state.doc.toString());
          }),
        ],
      }),
    });
    return () => view.destroy();
  }, [path, initial, label, describedBy]);

  return <div ref={host} className="editor" />;
}
