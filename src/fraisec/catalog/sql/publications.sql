-- Publications, with their tables (column list, row filter) and schemas. The oids of the
-- membership rows come along so that their dependency edges map to the publication.
select p.oid, p.pubname as name, pg_get_userbyid(p.pubowner) as owner,
       p.puballtables as all_tables, p.pubviaroot as via_root,
       array_remove(array[case when p.pubinsert then 'insert' end,
                          case when p.pubupdate then 'update' end,
                          case when p.pubdelete then 'delete' end,
                          case when p.pubtruncate then 'truncate' end], null) as publish,
       coalesce((select json_agg(json_build_object(
                   'oid', pr.oid, 'table', pr.prrelid::regclass::text,
                   'columns', (select array_agg(a.attname::text order by a.attnum)
                               from pg_attribute a
                               where a.attrelid = pr.prrelid and a.attnum = any(pr.prattrs)),
                   'where', pg_get_expr(pr.prqual, pr.prrelid))
                   order by pr.prrelid::regclass::text)
                 from pg_publication_rel pr where pr.prpubid = p.oid), '[]') as tables,
       coalesce((select json_agg(json_build_object('oid', pn.oid, 'schema', n.nspname::text)
                                 order by n.nspname)
                 from pg_publication_namespace pn join pg_namespace n on n.oid = pn.pnnspid
                 where pn.pnpubid = p.oid), '[]') as schemas
from pg_publication p
order by p.pubname
