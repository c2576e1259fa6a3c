/**
 * A throughput with three significant digits and a unit prefix. Thresholds sit just
 * under each unit, so 999.6M prints as 1.00G rather than 1.00e+3M.
 */
export const formatRate = (value: number): string => {
  if (value >= 999.5e6) return `${(value / 1e9).toPrecision(3)}G`;
  if (value >= 999.5e3) return `${(value / 1e6).toPrecision(3)}M`;
  if (value >= 999.5) return `${(value / 1e3).toPrecision(3)}k`;
  return value.toPrecision(3);
};
