import { describe, expect, test } from 'vitest'
import { socketPath } from './client.js'

describe('socketPath', () => {
  test("takes libpq's ?host=<directory> apart from the URL, as the socket's path", () => {
    expect(socketPath('postgres://app@localhost:5433/tollgate?host=/var/run/postgresql')).toEqual({
      url: 'postgres://app@localhost:5433/tollgate',
      path: '/var/run/postgresql/.s.PGSQL.5433',
    })
    expect(socketPath('postgres://app:pw@localhost/tollgate?host=/tmp&application_name=x')).toEqual(
      {
        url: 'postgres://app:pw@localhost/tollgate?application_name=x',
        path: '/tmp/.s.PGSQL.5432',
      },
    )
  })

  test('leaves a TCP URL alone', () => {
    for (const url of [
      'postgres://app@127.0.0.1:5432/tollgate',
      'postgres://app@db.internal/tollgate?host=db.internal',
    ])
      expect(socketPath(url)).toEqual({ url })
  })
})
