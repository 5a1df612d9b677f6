import { expect, test } from 'vitest'
import { windowWords } from './windowWords.js'

test('a window length in the largest whole unit; "window" when unknown', () => {
  expect(windowWords(2_592_000)).toBe('30-day window')
  expect(windowWords(86_400)).toBe('1-day window')
  // Shorter than a day: hours, not "0-day" (what the signing page once said for 1-hour terms).
  expect(windowWords(3_600)).toBe('1-hour window')
  expect(windowWords(5_400)).toBe('90-minute window')
  expect(windowWords(90)).toBe('90-second window')
  expect(windowWords(null)).toBe('window')
  expect(windowWords(0)).toBe('window')
})
