-- Objects fraisec does not diff yet, so they are reported by name instead of skipped silently:
-- operators, statistics objects; and what PostgreSQL 18 added that the column
-- model cannot say yet: VIRTUAL generated columns, NOT VALID / NO INHERIT not-null constraints
-- and comments on them (PG 18 keeps NOT NULL as pg_constraint rows, contype 'n'; on older
-- servers these rows never exist).
-- Each row carries a definition-ish text to tell whether the two sides differ.
select 'operator' as kind, o.oid::regoperator::text as identity, null as definition
from pg_operator o join pg_namespace n on n.oid = o.oprnamespace
where n.nspname not in ('pg_catalog', 'information_schema')
  and not exists (select 1 from pg_depend d where d.classid = 'pg_operator'::regclass and d.objid = o.oid and d.deptype = 'e')
union all
select 'statistics object', quote_ident(n.nspname) || '.' || quote_ident(s.stxname), pg_get_statisticsobjdef(s.oid)
from pg_statistic_ext s join pg_namespace n on n.oid = s.stxnamespace
where n.nspname not in ('pg_catalog', 'information_schema')
union all
select 'virtual generated column',
       quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(a.attname),
       pg_get_expr(ad.adbin, ad.adrelid)
from pg_attribute a join pg_class c on c.oid = a.attrelid
join pg_namespace n on n.oid = c.relnamespace
left join pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
where a.attgenerated = 'v' and not a.attisdropped and n.nspname not in ('pg_catalog', 'information_schema')
union all
select case when con.connoinherit then 'NO INHERIT not-null constraint'
            else 'NOT VALID not-null constraint' end,
       quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ' ' || quote_ident(con.conname),
       pg_get_constraintdef(con.oid)
from pg_constraint con join pg_class c on c.oid = con.conrelid
join pg_namespace n on n.oid = c.relnamespace
where con.contype = 'n' and (con.connoinherit or not con.convalidated)
  and n.nspname not in ('pg_catalog', 'information_schema')
union all
select 'not-null constraint comment',
       quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ' ' || quote_ident(con.conname),
       d.description
from pg_description d join pg_constraint con on d.classoid = 'pg_constraint'::regclass
     and con.oid = d.objoid
join pg_class c on c.oid = con.conrelid join pg_namespace n on n.oid = c.relnamespace
where con.contype = 'n' and n.nspname not in ('pg_catalog', 'information_schema')
order by 1, 2
