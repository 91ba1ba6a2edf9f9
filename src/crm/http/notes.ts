import type { Router } from 'express';
import { HttpError, pgErrorCode } from '../errors.js';
import { insertNote, listNotes } from '../repositories/notes.js';
import type { AppDeps } from './deps.js';
import { ctxOf } from './middleware.js';
import { routes } from './route.js';
import {
  decodeNoteCursor,
  encodeNoteCursor,
  newNoteSchema,
  pageQuerySchema,
  parseId,
  parseOr400,
} from './validation.js';

export function noteRoutes(router: Router, deps: AppDeps): void {
  const route = routes(router, { faults: { state: deps.faults, db: deps.db } });

  route(
    'get',
    '/api/customers/:id/notes',
    async (req, res) => {
      const id = parseId(req.params.id);
      const q = parseOr400(pageQuerySchema, req.query, 'query');
      const db = deps.db.forRequest(ctxOf(res));
      const page = await listNotes(db, id, q.limit ?? 50, decodeNoteCursor(q.cursor));
      if (page.items.length === 0 && q.cursor === undefined) {
        const { rowCount } = await db.query('SELECT 1 FROM customers WHERE id = $1', [id]);
        if (rowCount === 0) throw new HttpError(404, 'customer not found');
      }
      res.json({ items: page.items, next_cursor: page.next === null ? null : encodeNoteCursor(page.next) });
    },
    true,
  );

  route('post', '/api/customers/:id/notes', async (req, res) => {
    const id = parseId(req.params.id);
    const { body } = parseOr400(newNoteSchema, req.body, 'body');
    const note = await insertNote(deps.db.forRequest(ctxOf(res)), id, body).catch((err: unknown) => {
      if (pgErrorCode(err) === '23503') throw new HttpError(404, 'customer not found');
      throw err;
    });
    res.status(201).json(note);
  });
}
