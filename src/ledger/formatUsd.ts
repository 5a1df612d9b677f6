// A leaf with no imports: the pages' browser scripts bundle it too.

/** Formats micro-credits as dollars from integers only: 7000n → "$0.007", 8410000n → "$8.41". */
export function formatUsd(micros: bigint): string {
  const negative = micros < 0n
  const abs = negative ? -micros : micros
  const dollars = abs / 1_000_000n
  let cents = (abs % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '')
  if (cents.length < 2) cents = cents.padEnd(2, '0')
  return `${negative ? '-' : ''}$${dollars.toLocaleString('en-US')}.${cents}`
}
