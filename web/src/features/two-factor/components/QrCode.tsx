import { useEffect, useState } from 'react';

interface Matrix {
  size: number;
  get: (row: number, col: number) => number | boolean;
}

/**
 * The otpauth URI as a QR code, drawn as SVG rectangles by React: no innerHTML and no data:
 * URL, so it needs nothing from the Content-Security-Policy. `qrcode` is loaded on use.
 */
export function QrCode({ text, label, size = 200 }: { text: string; label: string; size?: number }) {
  const [matrix, setMatrix] = useState<Matrix | null>(null);
  useEffect(() => {
    let live = true;
    void import('qrcode').then((mod) => {
      const qr = (mod.default ?? mod).create(text, { errorCorrectionLevel: 'M' });
      if (live) setMatrix(qr.modules as unknown as Matrix);
    });
    return () => {
      live = false;
    };
  }, [text]);
  if (!matrix) return <svg width={size} height={size} aria-hidden="true" />;
  const quiet = 4;
  const n = matrix.size + quiet * 2;
  const cells: string[] = [];
  for (let r = 0; r < matrix.size; r++) {
    for (let c = 0; c < matrix.size; c++) {
      if (matrix.get(r, c)) cells.push(`M${c + quiet} ${r + quiet}h1v1h-1z`);
    }
  }
  return (
    <svg role="img" aria-label={label} width={size} height={size} viewBox={`0 0 ${n} ${n}`} shapeRendering="crispEdges">
      {/* Black on white whatever the theme: scanners need the contrast, so these are not design tokens. */}
      <rect width={n} height={n} fill="white" />
      <path d={cells.join('')} fill="black" />
    </svg>
  );
}
