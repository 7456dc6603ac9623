-- Range types, each as the CREATE TYPE that makes it: an option is written only where
-- PostgreSQL would not choose the same by itself (the subtype's default operator class and
-- collation), so two sides compare like with like. The multirange type comes with it.
select t.oid, r.rngmultitypid as multirange_oid, n.nspname as schema, t.typname as name,
       pg_get_userbyid(t.typowner) as owner,
       'CREATE TYPE ' || quote_ident(n.nspname) || '.' || quote_ident(t.typname) || ' AS RANGE ('
       || concat_ws(', ',
            'SUBTYPE = ' || format_type(r.rngsubtype, null),
            (select 'SUBTYPE_OPCLASS = ' || quote_ident(opn.nspname) || '.' || quote_ident(opc.opcname)
             from pg_opclass opc join pg_namespace opn on opn.oid = opc.opcnamespace
             where opc.oid = r.rngsubopc and not opc.opcdefault),
            case when r.rngcollation <> 0 and r.rngcollation <> st.typcollation
                 then 'COLLATION = ' || r.rngcollation::regcollation::text end,
            case when r.rngcanonical <> 0 then 'CANONICAL = ' || r.rngcanonical::regproc::text end,
            case when r.rngsubdiff <> 0 then 'SUBTYPE_DIFF = ' || r.rngsubdiff::regproc::text end,
            'MULTIRANGE_TYPE_NAME = ' || quote_ident(mn.nspname) || '.' || quote_ident(mt.typname))
       || ')' as definition
from pg_range r
join pg_type t on t.oid = r.rngtypid
join pg_namespace n on n.oid = t.typnamespace
join pg_type st on st.oid = r.rngsubtype
join pg_type mt on mt.oid = r.rngmultitypid
join pg_namespace mn on mn.oid = mt.typnamespace
where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
  and not exists (select 1 from pg_depend d where d.classid = 'pg_type'::regclass
                  and d.objid = t.oid and d.deptype = 'e')
order by 3, 4
