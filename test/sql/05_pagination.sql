-- Cursor pagination never skips or repeats a row, even while rows are inserted
-- during the walk; ending_before walks back.
\ir lib/setup.sql
SELECT plan(8);

SELECT count(*) FROM generate_series(1, 25) g,
  LATERAL pg_temp.api(:'a_test', 'POST', '/items', format('{"sku":"P-%s","name":"Item %s"}', g, g), 'p' || g) \gset

CREATE TEMP TABLE walk (page int, id text, has_more boolean);
CREATE FUNCTION pg_temp.walk_forward(key text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE cursor_id text; page int := 0; r record; more boolean := true;
BEGIN
  WHILE more LOOP
    page := page + 1;
    SELECT * INTO r FROM pg_temp.api(key, 'GET', '/items', NULL, NULL,
                                     'limit=7' || coalesce('&starting_after=' || cursor_id, ''));
    INSERT INTO walk SELECT page, d->>'id', (r.body->>'has_more')::boolean FROM json_array_elements(r.body->'data') d;
    more := (r.body->>'has_more')::boolean;
    SELECT d->>'id' INTO cursor_id FROM json_array_elements(r.body->'data') d ORDER BY d->>'id' LIMIT 1;
    -- A writer inserts between pages: new rows are newer than the walk and must not appear in it.
    PERFORM pg_temp.api(key, 'POST', '/items', format('{"sku":"NEW-%s","name":"During walk"}', page), 'new' || page);
  END LOOP;
END $$;
SELECT pg_temp.walk_forward(:'a_test');

SELECT is((SELECT count(*)::int FROM walk), 25, 'the walk returned 25 rows');
SELECT is((SELECT count(DISTINCT id)::int FROM walk), 25, 'none repeated');
SELECT set_eq('SELECT id FROM walk', $$SELECT id FROM sk.items WHERE sku LIKE 'P-%'$$, 'none skipped, none from the inserts');
SELECT is((SELECT max(page) FROM walk), 4, 'pages of 7: 7+7+7+4');
SELECT is((SELECT array_agg(DISTINCT has_more ORDER BY has_more) FROM walk WHERE page = 4), ARRAY[false], 'the last page says has_more false');

-- Newest first, and ending_before returns the page just before the cursor, in the same order.
SELECT is((SELECT bool_and(a.id > b.id) FROM walk a JOIN walk b ON b.page = a.page + 1), true, 'newest first across pages');
SELECT (SELECT id FROM walk WHERE page = 2 ORDER BY id DESC LIMIT 1) AS page2_first \gset
SELECT is((SELECT json_agg(d->>'id')::text FROM pg_temp.api(:'a_test', 'GET', '/items', NULL, NULL,
             'limit=7&ending_before=' || :'page2_first') a, json_array_elements(a.body->'data') d),
          (SELECT json_agg(id ORDER BY id DESC)::text FROM walk WHERE page = 1), 'ending_before walks back to page 1');
SELECT is((SELECT body->>'code' FROM pg_temp.api(:'a_test', 'GET', '/items', NULL, NULL, 'limit=101')),
          'parameter_invalid', 'limit above 100 is refused');

SELECT * FROM finish();
ROLLBACK;
