import{c as a,d as b,e as c,f as d,g as e}from"./chunk-JQMI6V5D.js";import"./chunk-3ANI4HV2.js";export{a as QUIET_ERRORS,d as firstRequest,e as helplineItem,c as wantComeBack,b as wantDanger};
