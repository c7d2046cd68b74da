import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { formatMegabytes, formatPercent } from '@/lib/format';
import './CapacityBar.css';

/**
 * Committed against total (memory or disk of a node or of the fleet) as a labelled `<meter>`:
 * the text says the figures, the bar shows them; past 80 % the bar turns to the warning colour,
 * past 100 % (over-allocated) to the danger colour, and the text says "over-allocated".
 */
export function CapacityBar({
  label,
  committedMb,
  totalMb,
  hideLabel = false,
}: {
  label: string;
  committedMb: number;
  totalMb: number;
  /** In a table whose column header already says what it is, the label is for screen readers only. */
  hideLabel?: boolean;
}) {
  const { t } = useTranslation('capacity');
  const id = useId();
  const percent = totalMb > 0 ? (committedMb / totalMb) * 100 : 0;
  const over = totalMb > 0 && committedMb > totalMb;
  return (
    <div className="capacity">
      <span id={`${id}-label`} className={hideLabel ? 'visually-hidden' : 'capacity-label'}>
        {label}
      </span>
      <meter
        aria-labelledby={`${id}-label`}
        aria-describedby={`${id}-text`}
        min={0}
        max={Math.max(totalMb, committedMb, 1)}
        low={totalMb * 0.8}
        high={totalMb}
        optimum={0}
        value={committedMb}
      />
      <span id={`${id}-text`} className="capacity-text">
        {totalMb > 0
          ? t(over ? 'over' : 'of', {
              committed: formatMegabytes(committedMb),
              total: formatMegabytes(totalMb),
              percent: formatPercent(percent),
            })
          : t('noTotal', { committed: formatMegabytes(committedMb) })}
      </span>
    </div>
  );
}
