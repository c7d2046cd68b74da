import { useTranslation } from 'react-i18next';
import type { Blueprint, BlueprintPreview } from '../api/blueprints';

/** What a blueprint runs: author, description, images, startup command and how it stops. */
export function BlueprintFacts({ blueprint }: { blueprint: BlueprintPreview | Blueprint }) {
  const { t } = useTranslation('adminBlueprints');
  return (
    <dl className="facts">
      {blueprint.author && (
        <>
          <dt>{t('facts.author')}</dt>
          <dd>{blueprint.author}</dd>
        </>
      )}
      {blueprint.description && (
        <>
          <dt>{t('facts.description')}</dt>
          <dd className="pre-line">{blueprint.description}</dd>
        </>
      )}
      <dt>{t('facts.images')}</dt>
      <dd>
        <ul className="plain">
          {Object.entries(blueprint.docker_images).map(([label, image]) => (
            <li key={label}>
              {label}: <code>{image}</code>
            </li>
          ))}
        </ul>
      </dd>
      <dt>{t('facts.startup')}</dt>
      <dd>
        <code className="wrap">{blueprint.startup}</code>
      </dd>
      <dt>{t('facts.stop')}</dt>
      <dd>{t(`facts.stopType.${blueprint.stop_type ?? 'command'}`, { value: blueprint.stop_value ?? '' })}</dd>
    </dl>
  );
}
