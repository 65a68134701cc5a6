(function(){try{var s=localStorage.getItem("scheme");if(s==="light"||s==="dark"){document.documentElement.setAttribute("data-theme",s);}}catch(e){}})();
