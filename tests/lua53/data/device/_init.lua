-- as NodeMCU's lua_examples/lfs/_init.lua: require() finds LFS modules
package.loaders[#package.loaders + 1] = function(name)
  return node.LFS.get(name) or ("\n\tno module '" .. name .. "' in LFS")
end
