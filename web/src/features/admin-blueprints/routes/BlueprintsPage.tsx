import { useId, useState, type ChangeEvent, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { ExportCsvButton } from '@/components/ExportCsvButton';
import { Pager } from '@/components/Pager';
import { PageTitle } from '@/components/PageTitle';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import type { CsvColumn } from '@/lib/csv';
import { formatDate, formatNumber } from '@/lib/format';
import {
  fetchBlueprintsPage,
  parseEgg,
  useBlueprints,
  useImportEgg,
  usePreviewEgg,
  type Blueprint,
  type BlueprintPreview,
  type Egg,
} from '../api/blueprints';
import { BlueprintFacts } from '../components/BlueprintFacts';
import { EggProblem } from '../components/EggProblem';
import { VariablesTable } from '../components/VariablesTable';
import '../catalog.css';

/** Every blueprint (egg) with how many servers use it; import an egg after previewing it. */
export function BlueprintsPage() {
  const { t } = useTranslation('adminBlueprints');
  return (
    <>
      <PageTitle>{t('list.title')}</PageTitle>
      <ImportSection />
      <BlueprintList />
    </>
  );
}

function ImportSection() {
  const { t } = useTranslation('adminBlueprints');
  const navigate = useNavigate();
  const textId = useId();
  const hintId = useId();
  const [text, setText] = useState('');
  const [notJson, setNotJson] = useState(false);
  const [checked, setChecked] = useState<{ egg: Egg; preview: BlueprintPreview } | null>(null);
  const preview = usePreviewEgg();
  const save = useImportEgg();

  const check = (source: string) => {
    setChecked(null);
    save.reset();
    const egg = parseEgg(source);
    setNotJson(egg === null);
    if (egg === null) {
      preview.reset();
      return;
    }
    preview.mutate(egg, { onSuccess: (result) => setChecked({ egg, preview: result }) });
  };

  const onFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    if (!file) return;
    const content = await file.text();
    setText(content);
    check(content);
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    check(text);
  };

  const discard = () => {
    setChecked(null);
    preview.reset();
    save.reset();
  };

  return (
    <section className="card" aria-labelledby="import-heading">
      <h2 id="import-heading">{t('import.title')}</h2>
      <p className="muted">{t('import.intro')}</p>
      <form onSubmit={onSubmit} noValidate>
        <div className="field">
          <label htmlFor={`${textId}-file`}>{t('import.file')}</label>
          <input id={`${textId}-file`} type="file" accept="application/json,.json" onChange={(e) => void onFile(e)} />
        </div>
        <div className="field">
          <label htmlFor={textId}>{t('import.paste')}</label>
          <textarea
            id={textId}
            className="egg-text"
            rows={8}
            spellCheck={false}
            value={text}
            aria-describedby={hintId}
            aria-invalid={notJson ? true : undefined}
            onChange={(e) => setText(e.target.value)}
          />
          <span id={hintId} className={notJson ? 'field-error' : 'hint'}>
            {notJson ? t('import.notJson') : t('import.pasteHint')}
          </span>
        </div>
        <div className="button-row">
          <button type="submit" className="button" data-variant="secondary" disabled={preview.isPending || !text.trim()}>
            {preview.isPending ? t('import.checking') : t('import.preview')}
          </button>
        </div>
      </form>
      {preview.isError && <EggProblem error={preview.error} />}
      {checked && (
        <section className="egg-preview" aria-labelledby="preview-heading">
          <h3 id="preview-heading">{t('import.previewTitle', { name: checked.preview.name })}</h3>
          <BlueprintFacts blueprint={checked.preview} />
          <VariablesTable variables={checked.preview.variables ?? []} caption={t('variables.caption')} />
          {save.isError && <EggProblem error={save.error} />}
          <div className="button-row">
            <button
              type="button"
              className="button"
              disabled={save.isPending}
              onClick={() =>
                save.mutate(checked.egg, { onSuccess: (created) => void navigate(`/admin/blueprints/${encodeURIComponent(created.id)}`) })
              }
            >
              {save.isPending ? t('import.saving') : t('import.save')}
            </button>
            <button type="button" className="button" data-variant="secondary" onClick={discard}>
              {t('import.discard')}
            </button>
          </div>
        </section>
      )}
      {save.isSuccess && <Notice tone="success">{t('import.saved')}</Notice>}
    </section>
  );
}

function BlueprintList() {
  const { t } = useTranslation('adminBlueprints');
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const list = useBlueprints(cursors[cursors.length - 1]);
  const columns: CsvColumn<Blueprint>[] = [
    { header: 'id', value: (b) => b.id },
    { header: 'name', value: (b) => b.name },
    { header: 'author', value: (b) => b.author },
    { header: 'default_image', value: (b) => Object.values(b.docker_images)[0] },
    { header: 'variables', value: (b) => (b.variables ?? []).length },
    { header: 'servers', value: (b) => b.servers ?? 0 },
    { header: 'created_at', value: (b) => b.created_at },
    { header: 'updated_at', value: (b) => b.updated_at },
  ];
  return (
    <section aria-labelledby="list-heading">
      <div className="button-row">
        <h2 id="list-heading">{t('list.heading')}</h2>
        <ExportCsvButton filename="blueprints" columns={columns} fetchPage={fetchBlueprintsPage} />
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.isError && !list.data ? (
        <ErrorAlert error={list.error} onRetry={() => void list.refetch()} />
      ) : list.data.items.length === 0 && cursors.length === 1 ? (
        <Empty>{t('list.empty')}</Empty>
      ) : (
        <>
          {list.isError && <ErrorAlert error={list.error} />}
          <div className="table-scroll">
            <table>
              <caption className="visually-hidden">{t('list.caption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('columns.name')}</th>
                  <th scope="col">{t('columns.variables')}</th>
                  <th scope="col">{t('columns.servers')}</th>
                  <th scope="col">{t('columns.updated')}</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((b) => (
                  <tr key={b.id}>
                    <th scope="row">
                      <Link to={`/admin/blueprints/${encodeURIComponent(b.id)}`}>{b.name}</Link>
                      {b.author && (
                        <>
                          <br />
                          <span className="muted">{b.author}</span>
                        </>
                      )}
                    </th>
                    <td>{formatNumber((b.variables ?? []).length)}</td>
                    <td>{formatNumber(b.servers ?? 0)}</td>
                    <td>{formatDate(b.updated_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager cursors={cursors} next={list.data.next_cursor} onChange={setCursors} />
        </>
      )}
    </section>
  );
}
