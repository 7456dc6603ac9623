-- Sequences, with the column that owns them (OWNED BY, deptype 'a'); identity sequences
-- (deptype 'i') are reported too so that their options can be attached to the column.
select c.oid, n.nspname as schema, c.relname as name, pg_get_userbyid(c.relowner) as owner,
       format_type(s.seqtypid, null) as type, s.seqstart as start, s.seqincrement as increment,
       s.seqmin as min, s.seqmax as max, s.seqcache as cache, s.seqcycle as cycle,
       o.deptype as owned_deptype, o.refobjid as owned_table_oid, ta.attname as owned_column,
       c.relpersistence as persistence
from pg_sequence s
join pg_class c on c.oid = s.seqrelid
join pg_namespace n on n.oid = c.relnamespace
left join pg_depend o on o.classid = 'pg_class'::regclass and o.objid = c.oid
     and o.refclassid = 'pg_class'::regclass and o.deptype in ('a', 'i')
left join pg_attribute ta on ta.attrelid = o.refobjid and ta.attnum = o.refobjsubid
where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
  and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass
                  and d.objid = c.oid and d.deptype = 'e')
order by 2, 3
