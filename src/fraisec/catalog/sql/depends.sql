-- Every dependency edge between user objects, in one query. Rewrite rules are reported as their
-- view, column defaults as their column, row types as their relation and array types as their
-- element type, so that the introspector can map both ends to catalog objects by oid.
with edges as (
  select d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid, d.refobjsubid, d.deptype
  from pg_depend d
  where d.deptype in ('n', 'a') and d.objid >= 16384 and d.refobjid >= 16384
),
resolved as (
  select
    case when e.classid = 'pg_rewrite'::regclass then 'pg_class'
         when e.classid = 'pg_attrdef'::regclass then 'pg_class'
         else e.classid::regclass::text end as classid,
    case when e.classid = 'pg_rewrite'::regclass then (select r.ev_class from pg_rewrite r where r.oid = e.objid)
         when e.classid = 'pg_attrdef'::regclass then (select ad.adrelid from pg_attrdef ad where ad.oid = e.objid)
         else e.objid end as objid,
    case when e.classid = 'pg_attrdef'::regclass then (select ad.adnum from pg_attrdef ad where ad.oid = e.objid)::int
         else e.objsubid end as objsubid,
    case when e.refclassid = 'pg_type'::regclass and t.typrelid <> 0 and tc.relkind <> 'c' then 'pg_class'
         when e.refclassid = 'pg_type'::regclass and t.typelem <> 0 and t.typcategory = 'A' then 'pg_type'
         else e.refclassid::regclass::text end as refclassid,
    case when e.refclassid = 'pg_type'::regclass and t.typrelid <> 0 and tc.relkind <> 'c' then t.typrelid
         when e.refclassid = 'pg_type'::regclass and t.typelem <> 0 and t.typcategory = 'A' then t.typelem
         else e.refobjid end as refobjid,
    e.refobjsubid, e.deptype
  from edges e
  left join pg_type t on e.refclassid = 'pg_type'::regclass and t.oid = e.refobjid
  left join pg_class tc on tc.oid = t.typrelid
)
select r.classid, r.objid, r.objsubid, r.refclassid, r.refobjid, r.refobjsubid, r.deptype,
       case when r.classid = 'pg_class' and r.objsubid > 0 then
         (select a.attname::text from pg_attribute a where a.attrelid = r.objid and a.attnum = r.objsubid) end as column_name,
       case when r.refclassid = 'pg_class' and r.refobjsubid > 0 then
         (select a.attname::text from pg_attribute a where a.attrelid = r.refobjid and a.attnum = r.refobjsubid) end as ref_column_name,
       coalesce((select x.refobjid from pg_depend x where x.classid = r.refclassid::regclass
                 and x.objid = r.refobjid and x.deptype = 'e' limit 1), 0) as ref_extension_oid
from resolved r
where not (r.classid = r.refclassid and r.objid = r.refobjid)
order by 1, 2, 3, 4, 5, 6
